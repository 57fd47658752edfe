"""Certificates of insurance: a policy's coverage lines and limits (:mod:`.limits`), the
masters staff keep on a client record and share with the client (:mod:`.masters`), what a
client does with a shared master (:mod:`.client_certificates`: add a holder, download, ask
for a certificate) and the sealed PDF certificate issued to a holder (:mod:`.issuing`).

The share rule: a master can be shared only while at least one of its policies is active and
in force today (office time); a shared master whose last policy leaves force stops being
shared by itself, at the daily sweep or at the next client request, whichever comes first.
"""
