"""PowerSchool SIS through a plugin's OAuth client: the ``/ws/v1`` REST resources and the contacts API
(``connector``, ``client``; ``extraction``: what one extract reads, in order; ``envelopes``)."""
