"""The InfluxDB sink: messages -> line protocol -> InfluxDB, offsets committed after the write."""
