"""The architecture of the code, as rules that fail on violations and tests that prove each rule bites."""
