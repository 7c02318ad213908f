"""chat/texts.py: numbers inside texts, written the way each language writes them."""

import pytest
from django.utils import translation

from chat import texts


@pytest.mark.parametrize(
    ("language", "written"),
    [("en", "394,473"), ("de", "394.473"), ("zh-hans", "394,473"), ("es", "394\xa0473")],
)
def test_a_number_in_a_text_is_grouped_as_its_language_groups_it(language, written):
    # Django's Simplified Chinese formats group nothing ("394473"): chatsite/formats adds it.
    with translation.override(language):
        assert texts.number(394_473) == written
