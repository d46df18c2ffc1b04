"""The listed population and cohort invitations (issue #7, R-44).

Pure parts — reading the CSV file (:mod:`.csv_import`), judging each row (:mod:`.checks`),
choosing a birth-year cohort (:mod:`.cohort`), laying out invitation letters
(:mod:`.letters`) — are kept apart from the parts that touch the database
(:mod:`.service`), so they can be tested and reused by the command line without Flask.
"""
