-- sip-calls.lua: follow SIP calls by Call-ID. Accept every SIP message
-- (UDP port 5060) that belongs to a call which has seen an INVITE, until
-- the 200 answer to its BYE; reject other SIP (REGISTER, OPTIONS, calls
-- already over) and all non-SIP traffic.
--
-- Style: a SIP parser over the UDP payload: the start line as a request
-- or a status, headers found with patterns (compact forms too: "i:" for
-- Call-ID), CSeq split into number and method; per-call records keyed by
-- the Call-ID string with a state field.
local data = require'data'

local ip4 = data.layout{ version = {0, 4}, ihl = {4, 4}, proto = {72, 8}, frag = {51, 13} }
local udp = data.layout{ sport = {0, 16}, dport = {16, 16} }

local calls = {}

local function header(head, long, short)
  return head:match('\r\n' .. long .. ':%s*([^\r\n]+)') or (short and head:match('\r\n' .. short .. ':%s*([^\r\n]+)'))
end

local function parse(s)
  local head = s:match('^(.-\r\n)\r\n')
  if not head then return nil end
  local msg = {}
  msg.method = head:match('^(%u+) sip:[^ ]+ SIP/2%.0\r\n')
  if not msg.method then
    local code = head:match('^SIP/2%.0 (%d%d%d) ')
    if not code then return nil end
    msg.status = tonumber(code)
  end
  msg.callid = header(head, 'Call%-ID', 'i')
  local cseq = header(head, 'CSeq')
  if cseq then msg.cseq, msg.cseq_method = cseq:match('^(%d+)%s+(%u+)') end
  return msg
end

function filter(pkt)
  if pkt:layout(ip4).version ~= 4 or pkt.proto ~= 17 or pkt.frag ~= 0 then return false end
  local seg = pkt:segment(pkt.ihl * 4)
  if not seg or not seg:layout(udp).dport then return false end
  if seg.sport ~= 5060 and seg.dport ~= 5060 then return false end
  local body = seg:segment(8)
  if not body then return false end
  local msg = parse(tostring(body))
  if not msg or not msg.callid then return false end
  local call = calls[msg.callid]
  if msg.method == 'INVITE' and call == nil then
    call = { state = 'inviting', messages = 0 }
    calls[msg.callid] = call
  end
  if call == nil or call.state == 'over' then return false end
  call.messages = call.messages + 1
  if msg.method == 'BYE' then
    call.state = 'closing'
  elseif msg.status == 200 and msg.cseq_method == 'BYE' then
    call.state = 'over'
  elseif msg.status == 200 and msg.cseq_method == 'INVITE' then
    call.state = 'up'
  end
  return true
end
