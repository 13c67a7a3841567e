"""How the portal writes a moment in time: always with its time zone, since the people reading a
page sit in several (TIME_ZONE is the deployment's, America/New_York by default). Templates use
``|date:"DATETIME_FORMAT"`` and ``|date:"SHORT_DATETIME_FORMAT"``, never a format of their own."""

DATETIME_FORMAT = "F j, Y, H:i T"
SHORT_DATETIME_FORMAT = "Y-m-d H:i T"
