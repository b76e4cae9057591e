"""Message Center shared package: domain rules, services, data access and AWS adapters.

Shipped to every Lambda function as a layer; the handlers in ``functions/`` stay thin and call
into ``message_center.services``.
"""
