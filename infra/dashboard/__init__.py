"""The analytics dashboard: a Streamlit in Snowflake app over the GOLD star schema and the CDC view."""
