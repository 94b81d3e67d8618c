#!/usr/bin/env python3
"""TARGET=keel (capture.sh): waits until a fresh single-node `keel server` has a controller
and serves the topic `captures` (3 partitions, created here, one record in each), talking
to it directly with kafka-python, so none of this is recorded.
Usage: keel_ready.py HOST:PORT [SECONDS]"""
import sys
import time

from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

bootstrap = sys.argv[1]
deadline = time.time() + (float(sys.argv[2]) if len(sys.argv) > 2 else 60)
last = None
while time.time() < deadline:
    try:
        a = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="capture-setup", request_timeout_ms=5000)
        try:
            a.create_topics([NewTopic("captures", 3, 1)])
        except TopicAlreadyExistsError:
            pass
        a.close()
        p = KafkaProducer(bootstrap_servers=bootstrap, client_id="capture-setup", acks="all")
        for part in range(3):
            p.send("captures", value=b"setup", partition=part).get(timeout=5)
        p.close(5)
        sys.exit(0)
    except Exception as e:  # not ready yet: no controller, no leaders
        last = e
        time.sleep(0.5)
print("keel_ready: %s not ready: %s" % (bootstrap, last))
sys.exit(1)
