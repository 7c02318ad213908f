"""daphne on uvloop: python -m chatsite.serve [daphne's arguments]

daphne makes its asyncio loop when it is imported; with uvloop's policy installed first,
that loop is uvloop's, which Twisted's asyncio reactor runs on unchanged.
"""

import uvloop


def main() -> None:
    uvloop.install()
    from daphne.cli import CommandLineInterface

    CommandLineInterface.entrypoint()


if __name__ == "__main__":
    main()
