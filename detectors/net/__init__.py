"""Network detectors: port scans, floods, SSH connection brute force, DNS tunnelling,
beaconing and threat-intel matches. They read only Event fields (``network.flow``,
``dns``, ``tls``, ``http`` and log events), never the sensor package."""
