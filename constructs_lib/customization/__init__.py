"""Model customization: the job construct, its request and identity, datasets, the service role's job access, job events and RFT graders."""
