"""Protocol metadata from flows: DNS, HTTP/1.x, TLS handshakes and SSH banners.

Each protocol is a ``FlowObserver`` (``sensor.net.hooks``) that claims a flow by port and
content sniffing (it sets ``flow.protocol``), keeps its parser state in
``flow.ext[name]`` and emits one event per transaction (datasets ``dns``, ``http``,
``tls``, ``ssh``). ``registry.make_observers`` builds them from a source's
``protocols:`` setting, behind one ``dispatch.ProtocolDispatch`` that calls only the parser
of a flow's protocol (and sniffs unclaimed flows in their first packets only). Malformed
protocol data is counted (``<proto>_malformed``, in the packet decode-error family) and
skipped, never fatal.

No TCP reassembly: segments are taken in arrival order; parsers that need more than one
segment (DNS over TCP, HTTP headers, a TLS ClientHello) keep a small bounded buffer per
direction, so retransmitted or reordered segments can garble (and count) a message. The
buffers of one source share a byte budget (``buffers.Budget``, ``make_observers``'s
``buffer_bytes``): a message that would overrun it is dropped and counted
(``proto_buffer_budget``). ``base.ProtocolParser`` is the skeleton the parsers share.
"""
