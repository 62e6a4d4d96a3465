// Device over MQTT 3.1.1/TLS (azure-iot-device-mqtt) against the served hub: telemetry, C2D + feedback, methods, twin, wrong key.
import { deviceSuite } from './lib/device_suite.mjs';

deviceSuite('mqtt');
