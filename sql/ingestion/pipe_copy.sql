-- Snowpipe's COPY: every column lands as text in Bronze, with where it came from and when: the
-- load's start (METADATA$START_SCAN_TIME) and the file's last-modified time, which order the
-- versions of a key that tie on UPDATED_AT (xfm_select.sql). _LOAD_SEQ is the local pipe's.
-- ON_ERROR = CONTINUE keeps the valid rows of a file; rejected rows are reported through the
-- pipe's error integration (SNS) and visible with VALIDATE_PIPE_LOAD / COPY_HISTORY.
COPY INTO {{ bronze_table }} (
  CUSTOMER_ID, FIRST_NAME, LAST_NAME, EMAIL, PHONE, CITY, STATE, ZIP_CODE,
  SIGNUP_DATE, LOYALTY_TIER, UPDATED_AT, _FILE_NAME, _FILE_ROW_NUMBER, _LOADED_AT, _FILE_LAST_MODIFIED
)
FROM (
  SELECT t.$1, t.$2, t.$3, t.$4, t.$5, t.$6, t.$7, t.$8, t.$9, t.$10, t.$11,
         METADATA$FILENAME, METADATA$FILE_ROW_NUMBER, METADATA$START_SCAN_TIME, METADATA$FILE_LAST_MODIFIED
  FROM @{{ stage }} t
)
FILE_FORMAT = (FORMAT_NAME = '{{ file_format }}')
ON_ERROR = CONTINUE
