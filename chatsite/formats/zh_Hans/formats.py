# Django's Simplified Chinese formats group no digits ("394473"); Chinese writes them in
# threes with a comma ("394,473"). The rest comes from Django's own module.
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
