/**
 * BioTrack 2014 JSON API answers in the shapes recorded by the public BioTrack mock openthc/bunk
 * (MIT; lib/BioTrack2014/: main.php, login.php, sync/inventory.php, sync/inventory_room.php,
 * sync/manifest.php, inventory/manifest.php, inventory/qa_check_all.php and its qa_check-*.php
 * data). Written here by hand from reading those sources, field for field, so that our client is
 * checked against someone else's idea of the API rather than against our own simulator.
 */
export const BUNK_UBI = '999000100';
/** The facility of bunk's "app#1568/#1654" rows. */
export const BUNK_LOCATION = '990001';
export const BUNK_SESSION = 'k3v9q0m1n2b4c6x8z7l5j3h1g0'; // a PHP session id

export const loginOk = { success: 1, admin: 1, sessionid: BUNK_SESSION, time: 1_700_000_000 };
export const loginNoCompany = { success: 0, _detail: 'Invalid Company Identifier, only Test IDs allowed [LBL-040]', _request: {} };
export const loginBadPassword = { success: 0, error: 'Invalid username or password.' };
export const sessionExpired = { success: 0, error: 'Your session has expired.', errorcode: 63 };
export const unhandled = { success: 0, error: 'Unhandled Request', errorcode: 999, '@openthc': { action_base: 'inventory' } };
export const badApi = { success: 0, error: 'Invalid API Version', errorcode: 17, meta: { note: 'The "API" key must be provided, the only allowed value is "4.0"' } };

export const inventoryRooms = {
  success: 1,
  inventory_room: [
    { deleted: '0', location: '18750', name: 'Quarantine', quarantine: '1', roomid: '1', transactionid: '4032', transactionid_original: '4032' },
    { deleted: '0', location: '18750', name: 'New', quarantine: '0', roomid: '7', transactionid: '4057', transactionid_original: '4057' },
  ],
};

const t = 1_700_000_123;
export const inventory = {
  success: 1,
  inventory: [
    { deleted: '0', id: '1234123412341234', inventorytype: '7', location: '999999', plantid: ['1234123412341234'], remaining_quantity: '300.00', sessiontime: t, strain: 'dutch treat', transactionid: 170000013, transactionid_original: 170000014, usable_weight: '300.00', wet: '0', net_package: '100.00' },
    { deleted: '0', id: '4321432143214321', inventoryparentid: '4321432143214321', inventorytype: '9', location: '999999', parentid: '9876987698769876', remaining_quantity: '200.00', sessiontime: t, strain: 'blue dream', transactionid: 170000015, transactionid_original: 170000016, usable_weight: '100.00', wet: '0', net_package: '50.00' },
    { currentroom: null, deleted: 0, id: '2891345622130160', inventoryparentid: null, inventorystatus: null, inventorystatustime: null, inventorytype: 13, is_sample: null, location: '999999', net_package: null, parentid: null, plantid: null, productname: null, rec_usableweight: null, remaining_quantity: '1', seized: null, sessiontime: t, source_id: null, strain: 'Blueberry', transactionid: 170000017, transactionid_original: 170000018, usable_weight: '1', wet: 0 },
    { deleted: '0', id: '2023164042000000', inventoryparentid: null, inventorytype: '7', location: '990001', parentid: '', remaining_quantity: '100.00', sessiontime: t, strain: 'blue dream', transactionid: 170000019, transactionid_original: 170000020, usable_weight: '100.00', wet: '0', net_package: null },
    { currentroom: null, deleted: 0, id: '2023164042000001', inventoryparentid: null, inventorystatus: null, inventorystatustime: null, inventorytype: 7, is_sample: null, location: '990001', net_package: null, parentid: null, plantid: null, productname: null, rec_usableweight: null, remaining_quantity: '200', seized: null, sessiontime: t, source_id: null, strain: 'Shady Apples', transactionid: 170000021, transactionid_original: 170000022, usable_weight: '200', wet: 0 },
    { currentroom: null, deleted: 0, id: '2023164042000002', inventoryparentid: null, inventorystatus: null, inventorystatustime: null, inventorytype: 7, is_sample: null, location: '990001', net_package: null, parentid: null, plantid: null, productname: null, rec_usableweight: null, remaining_quantity: '300', seized: null, sessiontime: t, source_id: null, strain: 'Shady Oranges', transactionid: 170000023, transactionid_original: 170000024, usable_weight: '300', wet: 0 },
    { currentroom: null, deleted: 0, id: '2023171133000000', inventoryparentid: ['2023171133000001'], inventorystatus: null, inventorystatustime: 1684591739, inventorytype: 28, is_sample: null, location: '990001', net_package: '1.5', parentid: ['2023171133000002'], plantid: null, productname: 'Preroll', rec_usableweight: '0.053', remaining_quantity: '99.00', seized: null, sessiontime: 1683396546, source_id: null, strain: 'Green Crack', transactionid: 170000025, transactionid_original: 170000026, usable_weight: '1.5050505050505', wet: 0 },
    { currentroom: null, deleted: 0, id: '2023184130600000', inventoryparentid: ['2023184130600001'], inventorystatus: null, inventorystatustime: 1684591739, inventorytype: 28, is_sample: null, location: '990001', net_package: '1', parentid: ['2023184130600002'], plantid: null, productname: 'Preroll', rec_usableweight: '1', remaining_quantity: '1', seized: null, sessiontime: 1683396546, source_id: null, strain: 'Green Crack', transactionid: 170000027, transactionid_original: 170000028, usable_weight: '1', wet: 0 },
  ],
};

/** bunk's qa_check-{id}.php data: one lab entry per inventory id, found by that id. */
export const labByInventoryId: Record<string, Record<string, unknown>> = {
  '2024058110000001': {
    lab_license: '999977', transactionid_original: 75328745, parent_id: '2024058110000001', barcode_id: '2024058110000001', inventorytype: 13,
    test: [{ type: 1, moisture: '9.2' }, { Total: '18.9', THCA: '0', CBDA: '0', THC: '18.876', CBD: '0', type: 2 }, { type: 3, Stems: '0', Other: '0' }, { e_coli_and_salmonella: '0', bile_tolerant: '0', type: 4, aerobic_bacteria: '0', yeast_and_mold: '0', coliforms: '0' }, { type: 6, total_mycotoxins: '0' }],
    result: 1, use: 1, sample_id: '2024058110000002', transactionid: 75922338,
  },
  '2024058120000001': { parent_id: '2024058120000002', sample_id: '2024058120000003', result: 1, test: [{ type: 2, Total: '76.2', THC: '76.1' }], barcode_id: '2024058120000001' },
  '2024058130000001': { parent_id: '2024058130000002', barcode_id: '2024058130000001', result: 1, test: [{ Total: '74.1', type: 2, THC: '74' }], sample_id: '2024058130000003' },
  '2024058140000001': { parent_id: '2024058140000002', barcode_id: '2024058140000001', result: 1, test: [{ type: 2, THC: '28.520', Total: '28.5' }], sample_id: '2024058140000003' },
};

/** What PHP prints before the JSON when qa_check_all's include_once finds no data file for an id. */
export const includeWarning = (id: string) =>
  `<br />\n<b>Warning</b>:  include_once(/opt/openthc/bunk/lib/BioTrack/inventory/qa_check-${id}.php): Failed to open stream: No such file or directory in <b>/opt/openthc/bunk/lib/BioTrack2014/inventory/qa_check_all.php</b> on line <b>47</b><br />\n<br />\n<b>Warning</b>:  include_once(): Failed opening '/opt/openthc/bunk/lib/BioTrack/inventory/qa_check-${id}.php' for inclusion (include_path='.:/usr/share/php') in <b>/opt/openthc/bunk/lib/BioTrack2014/inventory/qa_check_all.php</b> on line <b>47</b><br />\n`;

/** inventory_manifest: the new manifest's id as barcode_id. */
export const manifestCreated = { sessiontime: t, barcode_id: '7288034569537775', success: 1, transactionid: 170000031 };

export const syncManifest = {
  success: 1,
  manifest: [
    { completion_date: '1389796859', deleted: '0', fulfilled: '1', location: '999999', manifestid: '3692253654269107', origination_city: 'Seattle', origination_license_number: '189', origination_name: 'Trade 24', stopcount: '1', total_item_count: '1', transactionid: '9821', transactionid_original: '9821', transporter_id: '23486', transporter_name: 'New Employee' },
    { origination_city: 'Pena Blanca', sessiontime: 1688155908, origination_license_number: '990001', stopcount: 1, origination_state: 'NM', transactionid: 63744869, deleted: 0, completion_date: '1688155908', transporter_id: '001', total_item_count: 1, transporter_name: 'Contact 1', manifestid: '7288034569537775', location: '990001', fulfilled: 0 },
  ],
  manifest_stop_data: [
    { arrive_time: '1389886803', city: 'Tacoma', depart_time: '1389885003', item_count: '1', license_number: '11111', location: '999999', manifestid: '3692253654269107', name: 'Some Retail Location', stopnumber: '1', travel_route: 'Head southwest.', deleted: '0' },
    { manifestid: '7288034569537775', license_number: 'R999999', city: 'Albuquerque', travel_route: 'go the distance', location: '999999', stopnumber: '1', state: 'NM', name: 'A Retail', item_count: 1, deleted: 0, transactionid: 63744869, arrive_time: '1688191200', depart_time: '1688191200' },
  ],
  manifest_stop_items: [
    { description: 'Usable Marijuana', inventoryid: '0000000090000033', location: '999999', manifestid: '3692253654269107', quantity: '15.00', stopnumber: '1', deleted: '0' },
    { quantity: '1', stopnumber: '1', requiresweighing: null, deleted: 0, location: '999999', inventoryid: '2023184130600000', description: 'Preroll', manifestid: '7288034569537775' },
  ],
};
