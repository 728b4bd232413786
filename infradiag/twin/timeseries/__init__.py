"""Cloud Monitoring v3 `ListTimeSeries` semantics over REST-form TimeSeries dicts: pure Python, no gRPC.

Sources, cited again where the code depends on them:
- filters: https://cloud.google.com/monitoring/api/v3/filters
- intervals, aligners, reducers: google/monitoring/v3/common.proto (TimeInterval, Aggregation)
- the request and paging: google/monitoring/v3/metric_service.proto (ListTimeSeriesRequest)
- distributions: google/api/distribution.proto

The twin answers only what it can answer as Google documents it. Anything else raises InvalidArgument;
messages that start with "twin:" mark a query that Google may accept but the twin cannot answer
exactly.

Modules, each one concern: `filters` (the filter language), `values` (times, durations, typed values and
distributions), `aggregation` (aligner and reducer rules, combining values), `alignment` (per-series
aligners), `reduction` (cross-series reducers), `listing` (ListTimeSeries and its paging), `errors`.
"""
