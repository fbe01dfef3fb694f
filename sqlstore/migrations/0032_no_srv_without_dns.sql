-- A cluster has a standardSrv connection string only under a DNS name that
-- serves its SRV records. Those flexd made up before under the built-in
-- domain flexd.local resolved nowhere: drop them.
UPDATE flex_clusters SET srv_connection_string = ''
    WHERE srv_connection_string LIKE 'mongodb+srv://%.flexd.local';
