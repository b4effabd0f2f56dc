/**
 * @module A self-signed certificate for localhost and 127.0.0.1 (100 years), made once with
 * `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 36500 -subj /CN=localhost
 * -addext subjectAltName=DNS:localhost,IP:127.0.0.1`, so TLS tests need no openssl at run time.
 */

export const TEST_CERT = `-----BEGIN CERTIFICATE-----
MIIBnDCCAUGgAwIBAgIUD2W/QT80DexuF33TLYuBh2s73TowCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEyMzExMzQwMloYDzIxMjYxMDMw
MTEzNDAyWjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAATYrFCvL88yV3vj76EZbISU6YkeOfbtgxCHcMz6x6yJ+ZG0Ih9gCQcN
vMoNPTGs+j5jdjtMgD+o3X31Y9nOqi9Wo28wbTAdBgNVHQ4EFgQUjvfWcs5C15eV
+2CDLFD0WC5aRzQwHwYDVR0jBBgwFoAUjvfWcs5C15eV+2CDLFD0WC5aRzQwDwYD
VR0TAQH/BAUwAwEB/zAaBgNVHREEEzARgglsb2NhbGhvc3SHBH8AAAEwCgYIKoZI
zj0EAwIDSQAwRgIhAObU41siUJZSD/Vau86viXA2nvutYJWw0qlgWnvU6ifAAiEA
mnPP5ehzq6TTD+kxeZbl7WtsKVQkU9Z+GsW/9K8h9vk=
-----END CERTIFICATE-----
`;

export const TEST_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgHWneuJG7LpTUe62x
MMM2t3Sn+gXJJhBWm2gOqY1a/72hRANCAATYrFCvL88yV3vj76EZbISU6YkeOfbt
gxCHcMz6x6yJ+ZG0Ih9gCQcNvMoNPTGs+j5jdjtMgD+o3X31Y9nOqi9W
-----END PRIVATE KEY-----
`;
