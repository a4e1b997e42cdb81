"""A small table of our own for the fake's and the meter's rules: one GSI per
projection, so the tests do not move when template.yaml's indexes do."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import pytest

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage: {Type: String, Default: test}
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Sub layers-${Stage}
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions:
        - {AttributeName: PK, AttributeType: S}
        - {AttributeName: SK, AttributeType: S}
        - {AttributeName: AH, AttributeType: S}
        - {AttributeName: AR, AttributeType: S}
        - {AttributeName: KH, AttributeType: S}
        - {AttributeName: KR, AttributeType: S}
        - {AttributeName: IH, AttributeType: S}
        - {AttributeName: IR, AttributeType: N}
      KeySchema:
        - {AttributeName: PK, KeyType: HASH}
        - {AttributeName: SK, KeyType: RANGE}
      GlobalSecondaryIndexes:
        - IndexName: ALLX
          KeySchema:
            - {AttributeName: AH, KeyType: HASH}
            - {AttributeName: AR, KeyType: RANGE}
          Projection: {ProjectionType: ALL}
        - IndexName: KEYSX
          KeySchema:
            - {AttributeName: KH, KeyType: HASH}
            - {AttributeName: KR, KeyType: RANGE}
          Projection: {ProjectionType: KEYS_ONLY}
        - IndexName: INCX
          KeySchema:
            - {AttributeName: IH, KeyType: HASH}
            - {AttributeName: IR, KeyType: RANGE}
          Projection: {ProjectionType: INCLUDE, NonKeyAttributes: [status]}
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt Dlq.Arn
  Dlq:
    Type: AWS::SQS::Queue
"""

NOW = datetime(2026, 5, 1, 12, 0, 0, tzinfo=timezone.utc)


@pytest.fixture
def template(tmp_path: Path) -> Path:
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE)
    return path


@pytest.fixture
def now() -> Iterator[datetime]:
    from layers_shared import clock

    clock.set_now(NOW)
    yield NOW
    clock.set_now(None)
