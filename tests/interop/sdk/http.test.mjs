// Device over HTTPS (azure-iot-device-http) against the served hub: telemetry and polled C2D + feedback, wrong key (the SDK has no methods or twin over HTTP).
import { deviceSuite } from './lib/device_suite.mjs';

deviceSuite('http', { methods: false, twin: false, reject: true });
