"""The real-time recommendation API on Snowpark Container Services: the image repository, compute pool
and services (`component`), the role that owns them (`owner`), and their names (`catalog`)."""
