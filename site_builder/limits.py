"""Resource bounds that keep one hostile or broken file from exhausting the builder.

These are engineering limits, not numbers of the appraisal procedure (those live in rules.yaml).
"""

MAX_RECORD_BYTES = 1 << 20  # one record, appeal or sign-off
MAX_DATA_FILE_BYTES = 16 << 20  # people.yaml and rules.yaml, which grow with the roster
MAX_FRONT_MATTER_BYTES = 64 << 10
YAML_MAX_DEPTH = 16
YAML_MAX_NODES = 1_000_000
MAX_FINDINGS_PER_RECORD = 200
# A record's page is named like its file (`.md` → `.html`): within what every common filesystem allows.
MAX_NAME_BYTES = 140  # one file or folder name, in UTF-8 (eCryptfs allows 143)
MAX_PATH_BYTES = 1024  # the whole path under the site root
# Dates outside these years are typos; they would also give thousands of periods (or overflow `date`).
MIN_YEAR, MAX_YEAR = 1970, 2099
# A number with more digits before its point than this is a slip of the keyboard: the procedure's are a few
# digits, and one of thousands could not even be written out (Python refuses to turn an integer of over 4,300
# digits into text, and a chart's float overflows beyond 308)
MAX_NUMBER_DIGITS = 300
MAX_BODY_CHARS = 200_000
# Beyond these a body is shown as plain text (with a warning), since Python-Markdown's time grows with the
# square of a block's length on some inputs and it recurses once per nesting level.
MAX_MARKDOWN_CHARS = 50_000
MAX_MARKDOWN_BLOCK_CHARS = 5_000  # text between two blank lines
MAX_MARKDOWN_BLOCK_LINES = 200
MAX_MARKDOWN_NESTING = 32
MAX_BODY_BRACKETS = 500  # `[` or `<`: each unmatched one rescans the rest of its block or body
# A record may be committed this many days after its period at most and still be on time (late_grace_days)
MAX_GRACE_DAYS = 366
