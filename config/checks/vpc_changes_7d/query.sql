-- CIS 4.14 (Security Hub CloudWatch.14): VPC changes, one row per event, refused attempts included.
-- The event names are the CIS metric filter's, as Security Hub's CloudWatch.14 documents it.
-- Kept to EC2's eventSource, where VPCs live. ClassicLink is retired; its names stay because the CIS filter
-- lists them.
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
  AND eventsource = 'ec2.amazonaws.com'
  AND eventname IN (
    'CreateVpc', 'DeleteVpc', 'ModifyVpcAttribute', 'AcceptVpcPeeringConnection',
    'CreateVpcPeeringConnection', 'DeleteVpcPeeringConnection', 'RejectVpcPeeringConnection', 'AttachClassicLinkVpc',
    'DetachClassicLinkVpc', 'DisableVpcClassicLink', 'EnableVpcClassicLink'
  )
ORDER BY event_time, event_id
