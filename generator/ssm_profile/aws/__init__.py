"""AWS facts: partitions and Regions, the AWS-owned buckets SSM Agent reads, S3 bucket naming rules and
IAM policy sizing. Data and rules from AWS's documentation; nothing here knows about a spec."""
