/* Device-to-cloud acceptance: validation, anti-spoofing stamps, quota, routing to endpoints. */
#ifndef HUB_D2C_H
#define HUB_D2C_H

/* The connectionAuthMethod value the hub stamps, as IoT Hub writes it:
 * {"scope":"device"|"module","type":"sas"|"x509Certificate","issuer":"iothub","acceptingIpFilterRule":null} */
const char *hub_d2c_auth_method_json(int module_scope, int x509);

#endif
