"""Air processing as pure logic for the Faust agents: quality control (``qc``), event-time hours
and days per station (``hours``), district and city aggregates (``aggregate``), and the table
values they keep (``state``)."""
