"""Example frames from ``kucoin.md`` §12 (copied verbatim), shared by the KuCoin tests."""

from __future__ import annotations

WELCOME = '{"id":"hQvf8jkno","type":"welcome"}'
PONG = '{"id":"1545910590801","type":"pong"}'
ACK = '{"id":"1545910660739","type":"ack"}'
ERROR_509 = (
    '{"id":"1","type":"error","code":509,'
    '"data":"exceed max subscription count limitation of 100 per time"}'
)
ERROR_404 = (
    '{"code":404,"data":"topic /market/level2:BSV-BTC is not found",'
    '"id":"1551623050668","type":"error"}'
)
SPOT_L2 = (
    '{"topic":"/market/level2:BTC-USDT","type":"message","subject":"trade.l2update",'
    '"data":{"changes":{"asks":[["67993.3","1.21427407","14701689783"]],"bids":[]},'
    '"sequenceEnd":14701689783,"sequenceStart":14701689783,"symbol":"BTC-USDT",'
    '"time":1729816425625}}'
)
TICKER = (
    '{"type":"message","topic":"/market/ticker:BTC-USDT","subject":"trade.ticker",'
    '"data":{"sequence":"1545896668986","price":"0.08","size":"0.011","bestAsk":"0.08",'
    '"bestAskSize":"0.18","bestBid":"0.049","bestBidSize":"0.036","Time":1704873323416}}'
)
MATCH = (
    '{"topic":"/market/match:BTC-USDT","type":"message","subject":"trade.l3match",'
    '"data":{"makerOrderId":"671b5007389355000701b1d3","price":"67523",'
    '"sequence":"11067996711960577","side":"buy","size":"0.003","symbol":"BTC-USDT",'
    '"takerOrderId":"671b50161777ff00074c168d","time":"1729843222921000000",'
    '"tradeId":"11067996711960577","type":"match"}}'
)
DEPTH5 = (
    '{"topic":"/spotMarket/level2Depth5:BTC-USDT","type":"message","subject":"level2",'
    '"data":{"asks":[["67996.7","1.14213262"],["67996.8","0.21748212"],'
    '["67996.9","0.1503747"],["67997","0.11446863"],["67997.1","0.14842782"]],'
    '"bids":[["67996.6","0.37969491"],["67995.3","0.20779746"],["67994.5","0.00047785"],'
    '["67993.4","0.405"],["67993.3","0.13528566"]],"timestamp":1729822226746}}'
)
FUT_L2 = (
    '{"topic":"/contractMarket/level2:XBTUSDTM","type":"message","subject":"level2",'
    '"sn":1709400450243,"data":{"sequence":1709400450243,"change":"90631.2,sell,2",'
    '"timestamp":1731897467182}}'
)
FUT_DEPTH5 = (
    '{"topic":"/contractMarket/level2Depth5:XBTUSDTM","type":"message","subject":"level2",'
    '"sn":1731680019100,"data":{"bids":[["89720.9",513],["89720.8",12],["89718.6",113],'
    '["89718.4",19],["89718.3",7]],"sequence":1709294294670,"timestamp":1731680019100,'
    '"ts":1731680019100,"asks":[["89721",906],["89721.1",203],["89721.4",113],'
    '["89723.2",113],["89725.4",113]]}}'
)
EXECUTION = (
    '{"topic":"/contractMarket/execution:XBTUSDTM","type":"message","subject":"match",'
    '"sn":1794100537695,"data":{"symbol":"XBTUSDTM","sequence":1794100537695,"side":"buy",'
    '"size":2,"price":"90503.9","takerOrderId":"247822202957807616",'
    '"makerOrderId":"247822167163555840","tradeId":"1794100537695",'
    '"ts":1731898619520000000}}'
)
# Private frames (§12 items 5-7): not modelled, but they must parse as "other".
PRIVATE_ORDER = (
    '{"topic":"/spotMarket/tradeOrdersV2","type":"message","subject":"orderChange",'
    '"userId":"633559791e1cbc0001f319bc","channelType":"private","data":{"clientOid":'
    '"5c52e11203aa677f33e493fc","orderId":"6720da3fa30a360007f5f832","orderTime":'
    '1730206271588,"orderType":"market","originSize":"0.00001","side":"buy","status":"new",'
    '"symbol":"BTC-USDT","ts":1730206271616000000,"type":"received"}}'
)
BALANCE = (
    '{"topic":"/account/balance","type":"message","subject":"account.balance",'
    '"id":"354689988084000","userId":"633559791e1cbc0001f319bc","channelType":"private",'
    '"data":{"accountId":"548674591753","currency":"USDT","total":"21.133773386762",'
    '"available":"20.132773386762","hold":"1.001","availableChange":"-0.5005",'
    '"holdChange":"0.5005","relationContext":{"symbol":"BTC-USDT",'
    '"orderId":"6721d0632db25b0007071fdc"},"relationEvent":"trade.hold",'
    '"relationEventId":"354689988084000","time":"1730269283892"}}'
)
# A futures tickerV2 push with the fields of kucoin.md §7.1 (the reference prints none).
FUT_TICKER = (
    '{"topic":"/contractMarket/tickerV2:XBTUSDTM","type":"message","subject":"tickerV2",'
    '"sn":1709400450243,"data":{"symbol":"XBTUSDTM","sequence":1709400450243,'
    '"bestBidPrice":"90631.1","bestAskPrice":"90631.2","bestBidSize":7,"bestAskSize":2,'
    '"ts":1731897467182000000}}'
)

ALL = [
    WELCOME,
    PONG,
    ACK,
    ERROR_509,
    ERROR_404,
    SPOT_L2,
    TICKER,
    MATCH,
    DEPTH5,
    FUT_L2,
    FUT_DEPTH5,
    EXECUTION,
    PRIVATE_ORDER,
    BALANCE,
    FUT_TICKER,
]
