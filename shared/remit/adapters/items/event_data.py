"""An event's `data` compressed for storage: its JSON (UTF-8, no spaces) deflated by zlib with a
preset dictionary.

The objects events carry are small (an invoice's JSON is about 1.4 KB) and mostly attribute names
and the same few values, which plain zlib cannot find repeated within one small object: with a
dictionary of what those objects look like it can, and an invoice takes about 200 bytes instead of
about 700. The dictionary is part of the stored format: it never changes. Its zlib header names it
(the dictionary's Adler-32), so another one can be added next to it and old data still read; data
compressed without a dictionary reads too.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping
from typing import Any

# What the objects of events look like (a credit note, a billing run, a payment, a customer, a
# subscription, an invoice), the most common last. Never edit: add another dictionary instead.
DICTIONARY_2027 = (
    b'{"id":"cn_01","organisation_id":"org_01","invoice_id":"inv_01","invoice_number":"INV-00001","invoice'
    b'_issue_date":"2027-01-01","customer_id":"cus_01","number":"CN-00001","status":"issued","currency":"E'
    b'UR","issue_date":"2027-01-01","lines":[{"line_item_id":"li_01","description":"","quantity":"1","amou'
    b'nt":1000,"tax_amount":0}],"subtotal":0,"tax_total":0,"total":0,"tax_breakdown":[],"reason":"order_ch'
    b'ange","memo":null,"pre_payment_amount":0,"refund_amount":0,"credit_amount":0,"out_of_band_amount":0,'
    b'"einvoice":null,"created_at":"","voided_at":null}{"id":"brun_01","organisation_id":"org_01","kind":"'
    b'invoicing_cycle","customer_count":5,"invoices_created":5,"invoice_ids":["inv_01"],"errors":[],"skipp'
    b'ed":0,"processed":5,"run_date":"2027-03-02","created_at":"2027-01-01T00:00:00.000000Z","completed_at'
    b'":"2027-01-01T00:00:00.000000Z","status":"completed"}{"id":"pay_01","invoice_id":"inv_01","customer_'
    b'id":"cus_01","amount":500,"currency":"EUR","method":"cheque","status":"succeeded","amount_refunded":'
    b'0,"reference":null,"provider_payment_id":null,"received_on":"2026-12-06","created_at":"2027-01-01T00'
    b':00:00.000000Z"}{"id":"cus_01","organisation_id":"org_01","name":"","email":"","first_name":null,"la'
    b'st_name":null,"country":null,"currency":"EUR","preferred_locale":null,"address":null,"tax_rate":"0.0'
    b'0","tax_id":null,"vat_id":null,"tax_treatment":"standard","electronic_address":null,"buyer_reference'
    b'":null,"einvoice_format":null,"external_ids":[],"invoicing_flow":"automatic","payment_terms_days":30'
    b',"auto_pay":false,"send_reminders":true,"billing_cycle":null,"contacts":[],"balances":{},"metadata":'
    b'{},"created_at":"2027-01-01T00:00:00.000000Z","updated_at":"2027-01-01T00:00:00.000000Z","balance":0'
    b'}{"id":"sub_01","organisation_id":"org_01","customer_id":"cus_01","status":"active","template_id":nu'
    b'll,"line_items":[{"description":"","quantity":"1","unit_amount":4900,"tax_rate":null,"vat_category":'
    b'null,"exemption_reason":null,"unit_code":"C62"}],"currency":"EUR","period":1,"period_units":"months"'
    b',"start_date":"2027-03-02","end_date":null,"charge_period_end":false,"trial_periods":0,"days_until_d'
    b'ue":null,"include_open_charges":true,"collection":"send_invoice","memo":null,"current_period_start":'
    b'null,"current_period_end":null,"next_billing_date":"2027-04-02","cancel_at":null,"invoices_issued":1'
    b',"activated_at":"2027-01-01T00:00:00.000000Z","paused_at":null,"cancelled_at":null,"ended_at":null,"'
    b'created_at":"2027-01-01T00:00:00.000000Z","updated_at":"2027-01-01T00:00:00.000000Z"}{"id":"inv_01",'
    b'"organisation_id":"org_01","customer_id":"cus_01","number":"INV-00001","status":"open","currency":"E'
    b'UR","issue_date":"2026-12-06","due_date":"2027-01-05","line_items":[{"id":"li_01","description":"","'
    b'quantity":"2","unit_amount":1000,"tax_rate":"0.00","amount":2000,"tax_amount":0,"charge_id":null,"va'
    b't_category":"Z","exemption_reason":null,"unit_code":"C62"}],"subtotal":2000,"tax_total":0,"total":20'
    b'00,"tax_breakdown":[{"tax_rate":"0.00","taxable_amount":2000,"tax_amount":0}],"credit_applied":0,"am'
    b'ount_paid":0,"amount_due":2000,"credited_amount":0,"overdue":false,"memo":null,"footer":null,"hosted'
    b'_url":"https://","source":"manual","subscription_id":null,"period_start":null,"period_end":null,"del'
    b'ivery_date":null,"customer_name":"","customer_email":"","customer_address":null,"customer_tax_id":nu'
    b'll,"customer_locale":null,"customer_einvoice":{"einvoice_format":null,"tax_treatment":"standard","va'
    b't_id":null,"electronic_address":null,"buyer_reference":null},"einvoice":null,"finalized_at":"2027-01'
    b'-01T00:00:00.000000Z","sent_at":"2027-01-01T00:00:00.000000Z","paid_at":null,"voided_at":null,"marke'
    b'd_uncollectible_at":null,"created_at":"2027-01-01T00:00:00.000000Z","updated_at":"2027-01-01T00:00:0'
    b'0.000000Z"}'
)

_DICTIONARIES = {zlib.adler32(dictionary): dictionary for dictionary in (DICTIONARY_2027,)}
_CURRENT = DICTIONARY_2027
# zlib's header: FLG's FDICT bit says a dictionary id (4 bytes, big-endian) follows CMF and FLG.
_FDICT = 0x20


def compress_data(data: Mapping[str, Any]) -> bytes:
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS, 9, zlib.Z_DEFAULT_STRATEGY, _CURRENT)
    return compressor.compress(text) + compressor.flush()


def decompress_data(raw: bytes) -> Any:
    """The data `compress_data` stored (with any dictionary ever used, or none); ValueError if it is
    not such data."""
    try:
        if len(raw) >= 6 and raw[1] & _FDICT:
            dictionary = _DICTIONARIES.get(int.from_bytes(raw[2:6], "big"))
            if dictionary is None:
                raise ValueError("an event's data names a compression dictionary that is not known")
            decompressor = zlib.decompressobj(zlib.MAX_WBITS, dictionary)
        else:
            decompressor = zlib.decompressobj(zlib.MAX_WBITS)
        text = decompressor.decompress(raw) + decompressor.flush()
    except zlib.error as error:  # a ValueError, as any other malformed item is to its readers
        raise ValueError(f"an event's data does not decompress: {error}") from error
    if not decompressor.eof:
        raise ValueError("an event's data is cut short")
    try:
        return json.loads(text)
    except ValueError as error:
        raise ValueError(f"an event's data is not JSON: {error}") from error
