"""What people type: the control characters no one types, and PostgreSQL cannot store (NUL).

Every form and API of the exchange refuses them with a clear error instead of a 500.
"""

import re

#: Control characters other than tab and line breaks (for free text such as descriptions).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
#: A single line: no control character at all, line breaks included (names, URLs, ids).
SINGLE_LINE = r"^[^\x00-\x1f\x7f]*$"
