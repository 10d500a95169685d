-- Every console sign-in attempt, whoever made it.
SELECT
  eventtime                                                        AS event_time,
  coalesce(useridentity.arn, useridentity.username, useridentity.principalid) AS principal,
  useridentity.type                                                AS identity_type,
  account,
  json_extract_scalar(responseelements, '$.ConsoleLogin')         AS result,
  json_extract_scalar(additionaleventdata, '$.MFAUsed')           AS mfa_used,
  sourceipaddress                                                  AS source_ip,
  eventid                                                          AS event_id
FROM cloudtrail_window
WHERE eventtime >= ? AND eventtime < ?
  AND eventsource = 'signin.amazonaws.com'
  AND eventname = 'ConsoleLogin'
ORDER BY event_time, event_id
