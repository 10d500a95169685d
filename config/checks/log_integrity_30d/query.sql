-- The problems CloudTrail log file validation found for the window's log files (computed in-process: see
-- src/core/integrity.ts), oldest first.
SELECT problem, account, region, object_key, observed_at, detail
FROM log_integrity_problems
ORDER BY observed_at, object_key, problem
