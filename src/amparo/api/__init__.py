"""HTTP API: FastAPI app factory, thin routes, request/response schemas."""
