-- Snowpipe's COPY: every column lands as text in Bronze, with where it came from and when: the
-- load's start (METADATA$START_SCAN_TIME) and the file's last-modified time, which order the
-- versions of a key that tie on UPDATED_AT (xfm_select.sql). _LOAD_SEQ is the local pipe's.
-- ON_ERROR = CONTINUE keeps the valid rows of a file; rejected rows are reported through the
-- pipe's error integration (SNS) and visible with VALIDATE_PIPE_LOAD / COPY_HISTORY.
COPY INTO {{ bronze_table }} (
{{ columns }}
)
FROM (
  SELECT {{ fields }},
         METADATA$FILENAME, METADATA$FILE_ROW_NUMBER, METADATA$START_SCAN_TIME, METADATA$FILE_LAST_MODIFIED
  FROM @{{ stage }} t
)
FILE_FORMAT = (FORMAT_NAME = '{{ file_format }}')
ON_ERROR = CONTINUE
