-- CIS 4.15: AWS Organizations changes, one row per event, refused attempts included.
-- The event names are the CIS metric filter's.
-- Kept to Organizations' eventSource, as the CIS filter itself is: CreatePolicy/DeletePolicy also exist in IAM
-- (4.4) and DeletePolicy in Auto Scaling. Security Hub has no control for 4.15: these are the 18 names of the
-- CIS v1.4 filter (CancelHandshake, CreateOrganization and EnableAllFeatures are not among them).
SELECT
  eventtime                                                                      AS event_time,
  account,
  awsregion                                                                      AS region,
  coalesce(useridentity.arn, useridentity.principalid, useridentity.invokedby)  AS principal,
  useridentity.type                                                              AS identity_type,
  eventsource                                                                    AS event_source,
  eventname                                                                      AS event_name,
  errorcode                                                                      AS error_code,
  sourceipaddress                                                                AS source_ip,
  eventid                                                                        AS event_id
FROM cloudtrail_window
WHERE eventtime >= ? AND eventtime < ?
  AND eventsource = 'organizations.amazonaws.com'
  AND eventname IN (
    'AcceptHandshake', 'AttachPolicy', 'CreateAccount', 'CreateOrganizationalUnit',
    'CreatePolicy', 'DeclineHandshake', 'DeleteOrganization', 'DeleteOrganizationalUnit',
    'DeletePolicy', 'DetachPolicy', 'DisablePolicyType', 'EnablePolicyType',
    'InviteAccountToOrganization', 'LeaveOrganization', 'MoveAccount', 'RemoveAccountFromOrganization',
    'UpdatePolicy', 'UpdateOrganizationalUnit'
  )
ORDER BY event_time, event_id
