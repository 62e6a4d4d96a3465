#!/usr/bin/python3
"""The fleet model of bench/scenarios/simpy-compare-*.json written with SimPy 2.3
(Debian's python3-simpy, classic SimPy.Simulation API), for the speed and memory
ratios in the README.

Model (the same as the hubsim scenario): N devices; each connects at a uniform
random instant in the first 60 s, then sends a 256-byte JSON telemetry message
with 3 application properties every 60 s; the message crosses a 20 ms link; the
hub checks its size against 256 KB, stamps connectionDeviceId, enqueuedTime and
generationId, counts it accepted and delivers it to the built-in endpoint.  It
does less than hubsim's hub model (no SAS, no routing queries, no trace hash),
so the ratio favours SimPy.

Usage: fleet_simpy.py DEVICES [DURATION_S]   prints one JSON line.
"""
import json
import random
import resource
import sys
import time

from SimPy.Simulation import Process, activate, hold, initialize, now, simulate


class Hub:
    def __init__(self):
        self.accepted = 0
        self.delivered = 0
        self.events = 0

    def accept(self, device_id, msg):
        size = len(msg["body"]) + sum(len(k) + len(v) for k, v in msg["props"].items())
        if size > 256 * 1024:
            return False
        msg["sys"] = {"connectionDeviceId": device_id, "enqueuedTime": now(),
                      "connectionDeviceGenerationId": "1"}
        self.accepted += 1
        self.delivered += 1
        return True


class Arrival(Process):
    def run(self, hub, device_id, msg):
        yield hold, self, 0.020
        hub.events += 1
        hub.accept(device_id, msg)


class Device(Process):
    def run(self, hub, index, rng, duration):
        device_id = "dev-%07d" % index
        yield hold, self, rng.uniform(0, 60.0)
        hub.events += 1
        seq = 0
        while now() + 60.0 <= duration:
            yield hold, self, 60.0
            hub.events += 1
            body = ('{"deviceId":"%s","seq":%d,"pad":"' % (device_id, seq)).ljust(254, "x") + '"}'
            msg = {"body": body, "props": {"kind": "temp", "site": "a1", "fw": "1.0"}}
            seq += 1
            arrival = Arrival()
            activate(arrival, arrival.run(hub, device_id, msg))


def main():
    devices = int(sys.argv[1])
    duration = float(sys.argv[2]) if len(sys.argv) > 2 else 600.0
    rng = random.Random(1)
    t0 = time.monotonic()
    initialize()
    hub = Hub()
    for i in range(devices):
        d = Device()
        activate(d, d.run(hub, i, rng, duration))
    simulate(until=duration)
    wall = time.monotonic() - t0
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"devices": devices, "wall_s": round(wall, 3), "events": hub.events,
                      "events_per_s": round(hub.events / wall), "accepted": hub.accepted,
                      "peak_mb": round(peak_kb / 1024.0, 1)}))


if __name__ == "__main__":
    main()
