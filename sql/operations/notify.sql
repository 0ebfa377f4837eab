-- An operations alert's action: one JSON message (the format Snowflake sends to a queue such as SNS) to
-- the stack's error integration, the one its pipes and tasks report errors to.
CALL SYSTEM$SEND_SNOWFLAKE_NOTIFICATION(
    SNOWFLAKE.NOTIFICATION.APPLICATION_JSON('{{ message }}'),
    SNOWFLAKE.NOTIFICATION.INTEGRATION('{{ integration }}')
)
