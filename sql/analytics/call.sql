CALL {{ procedure }}()
