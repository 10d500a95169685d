-- CIS 4.2: successful IAM-user console sign-ins without MFA. A missing MFAUsed counts as "not used".
SELECT
  eventtime                                              AS event_time,
  useridentity.arn                                       AS user_arn,
  useridentity.username                                  AS user_name,
  account,
  json_extract_scalar(additionaleventdata, '$.MFAUsed') AS mfa_used,
  sourceipaddress                                        AS source_ip,
  eventid                                                AS event_id
FROM cloudtrail_window
WHERE eventtime >= ? AND eventtime < ?
  AND eventsource = 'signin.amazonaws.com'
  AND eventname = 'ConsoleLogin'
  AND useridentity.type = 'IAMUser'
  AND json_extract_scalar(responseelements, '$.ConsoleLogin') = 'Success'
  AND coalesce(json_extract_scalar(additionaleventdata, '$.MFAUsed'), 'No') <> 'Yes'
ORDER BY event_time, event_id
