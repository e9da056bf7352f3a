"""Throw-away Ed25519 and RSA test keys (made for these tests only, never used anywhere else)
and their signatures of one WebSocket API payload, computed independently with OpenSSL 3.0
(``openssl pkeyutl -sign -rawin`` for Ed25519, ``openssl dgst -sha256 -sign`` for RSA)."""

ED25519_PEM = """-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIKbNpDn/RHGMGi6TfvqDY15/zhousNt+ag0lloGdD6LX
-----END PRIVATE KEY-----
"""

RSA_PEM = """-----BEGIN PRIVATE KEY-----
MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQCxaMbxoY0pmPl9
CF5F6blkcncdKPMUIw1V5iZ3Ildcrpe9euIRai006zcMTfzUv8ushwkzt8JTZVDo
Opw8jO91FNZ0MLDHcWpzFlk/r/S4xivXY6zqNk6BlooaKh1n97iNImjM5H5D1Xgw
6GmKVNHZdbitmXxjPjo2+LUROWQZnsungMQ+TQ+VERX2Z3AcBxEzEVDSRLVg5C5x
VL+r01cAtYjCrDXQrMzrbB5eff4ExdIlfZEbKUwXgg0bxmBCaTnXn7UJ+72KK6/3
nK90GvxJlW5axeptEzSWkmZ/w7mtrpNiFAf4G8FmTDDMlmP0uywCjQafh6jxA3sr
eTE7thS5AgMBAAECggEAD0trK1W0J8vqZl8cUYau1vwPTNJE8o17DtbCpi6tvW3H
4yv+5WVz9EX6/vKSQ30tf/g8UNscw7fOW9cBtS6pTjy3qFiyRN+AP9/DXfw7atqa
2Pzc4WxBJGboDQ1ob5gprvEye8ePIyX6MK04vBZH6Sl+/GhpEt1Ag5C5e3ypJpQn
UfkjZP3CvzcwxQi9rpXDYAn8q7OjC5oD4/sU8+q9RU1nRP9Y+M7L/frIpSTAkI1r
EC4amTW5uyZfwyVxu3Yk40aRinVKYV/mCUcq/eoouF9Jzm7HrGDrdEkRYP1jWtA5
myRGlaq0yyC19sJ5jP9v9+YOXApqTabdc/emfpb4iQKBgQDcprW9HdxYCIsvdJ7d
PRVZvwYVz7RfutnhTQf8T9OWhtX69E5E36KaqH9vW0EZZOTwt2eZJU3e+YHkvGC9
eO/20/wU35PDkVtos3AqNX2QW1EM2sSgZmS/R/rHGDElqyCGLFZgr96OEs2t3XX/
fsRrmzojiLAKK2Rip/GDHDIG0wKBgQDN1KP/3w0jV4N0UPY2ppqiE3jwQ1fBETHs
0EBlheERlB9S+dYanpYqy6JY7W0GdQQmI0WZYn7FQBGbHl5BguL/tdJZKgGJ2HMl
9KVlBo9YyTQPrutavPshP4aZ9v0KWZGRFwa0g+YYJdgs3p0pT2fkOndN7NmwWV5v
G7iAzXBWwwKBgQCVl1RY/XiYGlq6dpcJqNLjwFUQznsb96KlU0MZtMjfIVTKyXyS
xwcHUTrsNPLCk5t+8uiCdD8B7yg3+dqgOfB956PcRuN30AEnz5c4loElMDOXwm1R
zXl6EQOcnPMc9ZKcREzfSfxZV7gnqp/H8pqZ1WgqFQ48JsTs+a0L1T65TwKBgQDG
G5I1phPZHlQR0hMIitZuhNt0NPzzgH9S9SXmETONXcnAbWLbgCP80L5TZUH4Yww5
QN2uQhTN+Vp4uIPz/exKPlBVLY8Jg+FgeNXwJJ430IBhT/SLAzWazK/a5NSr74Wh
5k231PPT7ijhFuqhZiISkwtdX0gu6fVwb3fn0NP9TQKBgENMb0PDQNVIaqNLZqAl
vmLaOOw3by9bHxsDQiOqcY3A77hDjuqZuBCcBNtis53EM0VuGqqJUsamCY73fPi8
WQpAodbEz1ianrqLFPh39E+fnaSadZbr3tEOsaAQuPn/vE+8+ocxDcNlPMfIMPWn
Phs8Z/cIpoeWZaeoGyZX3RoG
-----END PRIVATE KEY-----
"""

#: The ``userDataStream.subscribe.signature`` payload of ``binance.md`` §12 item 5.
PAYLOAD = (
    "apiKey=vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
    "&timestamp=1747385641636"
)
ED25519_SIGNATURE = (
    "8XQOXmECVdbFFMOLlv9xLm1FugmwIfjsp/qXTsxGxwSqnJSlim9jcjpn3X0lLPhr38kk3/NkQJB8zHBKLs76Dw=="
)
RSA_SIGNATURE = (
    "d8e7790zbpnMMrdbGU5SzHjH5MEhGFn4boGP5iAywCJw3Dg+bu5iT3dGbOs7i6DlgpJ5qAEk5PSzA93v2T/X1cL5"
    "H2U//qmWwXZ3G3yE1m0hFT0qQSssr+OKwXHV+/knnGaz/1t8Bw+AnMfpTigTOFNXoi9kaXTzv4lSOF1Y9ZmsY02X"
    "mrSPfqzLtqTgbAadmrC8LV8jbbL8QuXgT9qDVEtqFT22AHl9M0O4dEzeKKr/KpBlWUscx0hoA1N+ZO2wT8Y+Cra0"
    "2fvXbQBvbSRJtE6ah5ZWMQguDGJUybLhKxCUv3uIZJL1tAu8FOc26Hj+ujWdg/3w0WM5DBaxe+v8MA=="
)
