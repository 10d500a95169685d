-- The problems CloudTrail log file validation found for the window's log files, oldest first.
-- The table is computed in-process from the digests and the log files: see src/core/integrity.ts.
SELECT problem, account, region, object_key, observed_at, detail
FROM log_integrity_problems
ORDER BY observed_at, object_key, problem
