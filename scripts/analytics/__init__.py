"""E-commerce analytics: the post-deploy data steps and their local rehearsal on the stand-ins."""
