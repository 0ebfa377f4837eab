"""Post-deploy loads, local stand-ins and tools."""
