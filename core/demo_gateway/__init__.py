"""Demo gateway: a local HTTP server speaking the Phaseo video API and rendering real MP4s.

It is Reelgate's default backend when no API key is configured, and drives the integration
tests and benchmarks. Fault keywords for prompts are documented in `core.demo_gateway.faults`.
"""

from core.demo_gateway.faults import FaultProfile
from core.demo_gateway.service import DemoGateway, serve_forever
from core.demo_start import DEMO_API_KEY

__all__ = ["DEMO_API_KEY", "DemoGateway", "FaultProfile", "serve_forever"]
