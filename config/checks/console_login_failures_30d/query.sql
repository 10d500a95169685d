-- CIS 4.6: console authentication failures, one row per failed attempt.
SELECT
  eventtime                                                        AS event_time,
  coalesce(useridentity.arn, useridentity.username, useridentity.principalid) AS principal,
  useridentity.type                                                AS identity_type,
  account,
  sourceipaddress                                                  AS source_ip,
  errormessage                                                     AS error_message,
  eventid                                                          AS event_id
FROM cloudtrail_window
WHERE eventtime >= ? AND eventtime < ?
  AND eventsource = 'signin.amazonaws.com'
  AND eventname = 'ConsoleLogin'
  AND errormessage = 'Failed authentication'
ORDER BY event_time, event_id
