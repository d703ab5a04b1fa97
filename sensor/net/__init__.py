"""The network sensor: capture files, packet decoding, the flow table, flow events.

Layers, each its own module:

- ``pcapfile`` / ``pcapng``: streaming readers for classic pcap and pcapng files;
- ``decode``: link, IP and transport headers from raw bytes (no object per packet);
- ``tcpstate``: TCP endpoint states, Zeek-style ``conn_state`` and ``history``;
- ``flows``: the bounded, bidirectional flow table with idle and active timeouts;
- ``hooks``: the seam where protocol parsers and packet rules plug in;
- ``flowevent`` / ``communityid``: a finished flow as an ECS ``network.flow`` Event;
- ``engine``: the hot loop tying them together; ``source``: the ``pcap`` source.
"""
