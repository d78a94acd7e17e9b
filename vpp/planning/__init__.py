"""Planning: sizing new PV and storage, and valuing the investment (see ``finance``)."""
