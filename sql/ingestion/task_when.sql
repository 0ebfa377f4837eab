SYSTEM$STREAM_HAS_DATA('{{ stream }}')
