{{ conditions }}
