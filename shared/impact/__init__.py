"""Impact of completed exchanges: tonnes by material, CO2e and transport avoided.

Plain Python shared by the monitor (the whole exchange) and the listings service (each
organisation's own figures); definitions and sources in docs/impact.md.
"""
