// Device over AMQP 1.0/TLS (azure-iot-device-amqp, no SASL then CBS) against the served hub: telemetry, C2D + feedback, methods, twin, wrong key.
import { deviceSuite } from './lib/device_suite.mjs';

deviceSuite('amqp', { reject: true });
