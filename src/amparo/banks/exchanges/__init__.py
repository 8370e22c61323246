"""Hash exchanges (NCMEC, StopNCII, ThreatExchange, Amparo-to-Amparo) behind one interface and
one registry (base.py), synced by one engine (sync.py)."""
