"""Asset groups named for the pipeline's stages, in the order a lead goes through them.

The UI lists assets by group: these names read as the pipeline (leads come in, are
registered at Kroton, are followed there, and everything is reported), not as job names.
"""

LEAD_INTAKE = "lead_intake"  # export imported, genders filled, courses matched
REGISTRATION = "kroton_registration"
FOLLOW_UP = "kroton_follow_up"
REPORTING = "reporting_and_health"

STAGES = (LEAD_INTAKE, REGISTRATION, FOLLOW_UP, REPORTING)
