import { primary } from '../common/languages.js';
import type { Category, Remedy } from './policy.js';

/**
 * What the assistant says, in each language it speaks without a translation engine: English,
 * Spanish and Chinese. Short sentences: each is spoken aloud as well as written in the chat.
 * Another language gets English, which the node's chat translation and the assistant's voice
 * carry over where an engine covers it.
 */
export interface Phrases {
  greeting(name: string, orderId: string | null): string;
  tellMore: string;
  askOrder: string;
  orderMissing: string;
  askPhoto: string;
  photoAdded: string;
  noPhoto: string;
  remedy: Record<Remedy, string>;
  doesThatWork: string;
  yesOrNo: string;
  arranged: string;
  handingOver: string;
  /** To the seller who joins after a hand-over, before the summary. */
  summaryFor(sellerName: string): string;
  /** The order, said apart from the summary (a translation engine would mangle its id). */
  order(orderId: string): string;
  noSeller(seconds: number): string;
  clipDone: string;
  goodbye: string;
  category: Record<Category, string>;
}

const en: Phrases = {
  greeting: (name, order) => `Hello${name ? ` ${name}` : ''}, I am the after-sales assistant${order ? ` for order ${order}` : ''}. What went wrong with your item?`,
  tellMore: 'Could you tell me more? Is it damaged, not working, the wrong item or size, or do you need help to use it?',
  askOrder: 'Which order is it about? Please tell me the order number.',
  orderMissing: 'I need the order number to go on. It is in your order confirmation.',
  askPhoto: 'Please hold the item up to your camera, so that I can take a photo of it, and say ready.',
  photoAdded: 'Thank you, the photo is in your ticket.',
  noPhoto: 'I could not take a photo; a seller may ask you for one later.',
  remedy: {
    replacement_part: 'We can send you a replacement part at no cost, and you keep the item.',
    partial_refund: 'We can refund part of the price right away, and you keep the item.',
    usage_guide: 'Here is the setup guide for your item, step by step.',
    return: 'You can return the item, with a prepaid label.',
  },
  doesThatWork: 'Does that work for you?',
  yesOrNo: 'Please answer yes or no.',
  arranged: 'Great, it is arranged. You will get a confirmation by email.',
  handingOver: 'I am calling a seller for you. Please stay in the call.',
  summaryFor: (seller) => `Hello${seller ? ` ${seller}` : ''}, here is what the buyer told me.`,
  order: (id) => `Order ${id}.`,
  noSeller: (seconds) => `No seller is available right now. Please show the problem to your camera and tell me what happened. I will record ${seconds} seconds for the seller.`,
  clipDone: 'Thank you. The seller will see your video and contact you by email within one day.',
  goodbye: 'Goodbye.',
  category: {
    damaged_in_transit: 'damaged in transit', defective: 'defective', wrong_item_or_size: 'wrong item or size',
    how_to_use: 'needs help to use it', changed_mind: 'changed their mind',
  },
};

const es: Phrases = {
  greeting: (name, order) => `Hola${name ? ` ${name}` : ''}, soy el asistente de posventa${order ? ` del pedido ${order}` : ''}. ¿Qué problema tiene con su artículo?`,
  tellMore: '¿Puede contarme más? ¿Está dañado, no funciona, es el artículo o la talla equivocada, o necesita ayuda para usarlo?',
  askOrder: '¿De qué pedido se trata? Dígame el número de pedido, por favor.',
  orderMissing: 'Necesito el número de pedido para seguir. Está en la confirmación de su pedido.',
  askPhoto: 'Muestre el artículo a la cámara, para que pueda tomar una foto, y diga listo.',
  photoAdded: 'Gracias, la foto está en su caso.',
  noPhoto: 'No pude tomar la foto; un vendedor puede pedírsela más tarde.',
  remedy: {
    replacement_part: 'Podemos enviarle una pieza de repuesto sin coste, y usted se queda el artículo.',
    partial_refund: 'Podemos devolverle parte del precio ahora mismo, y usted se queda el artículo.',
    usage_guide: 'Aquí tiene la guía de instalación de su artículo, paso a paso.',
    return: 'Puede devolver el artículo, con una etiqueta prepagada.',
  },
  doesThatWork: '¿Le parece bien?',
  yesOrNo: 'Por favor, responda sí o no.',
  arranged: 'Perfecto, está hecho. Recibirá una confirmación por correo.',
  handingOver: 'Estoy llamando a un vendedor. Por favor, no cuelgue.',
  summaryFor: (seller) => `Hola${seller ? ` ${seller}` : ''}, esto es lo que me ha contado el comprador.`,
  order: (id) => `Pedido ${id}.`,
  noSeller: (seconds) => `Ahora no hay ningún vendedor disponible. Muestre el problema a la cámara y cuénteme qué pasó. Grabaré ${seconds} segundos para el vendedor.`,
  clipDone: 'Gracias. El vendedor verá su vídeo y le escribirá en un día.',
  goodbye: 'Adiós.',
  category: {
    damaged_in_transit: 'dañado en el transporte', defective: 'defectuoso', wrong_item_or_size: 'artículo o talla equivocada',
    how_to_use: 'necesita ayuda para usarlo', changed_mind: 'cambió de opinión',
  },
};

const zh: Phrases = {
  greeting: (name, order) => `您好${name ? `，${name}` : ''}，我是售后助手${order ? `，负责订单 ${order}` : ''}。您的商品出了什么问题？`,
  tellMore: '能再详细说说吗？商品是损坏了、不能用、发错了货或尺码，还是需要使用帮助？',
  askOrder: '是哪个订单？请告诉我订单号。',
  orderMissing: '我需要订单号才能继续。订单号在您的订单确认里。',
  askPhoto: '请把商品对准摄像头，我来拍一张照片，好了请说好了。',
  photoAdded: '谢谢，照片已加入您的工单。',
  noPhoto: '我没能拍到照片；卖家之后可能会向您要一张。',
  remedy: {
    replacement_part: '我们可以免费给您寄一个替换零件，商品您留着。',
    partial_refund: '我们可以马上退还部分货款，商品您留着。',
    usage_guide: '这是您商品的安装指南，一步一步来。',
    return: '您可以退货，我们提供预付运单。',
  },
  doesThatWork: '您看可以吗？',
  yesOrNo: '请回答可以或者不可以。',
  arranged: '好的，已经办好了。您会收到确认邮件。',
  handingOver: '我正在为您呼叫卖家，请不要挂断。',
  summaryFor: (seller) => `您好${seller ? `，${seller}` : ''}，以下是买家告诉我的情况。`,
  order: (id) => `订单 ${id}。`,
  noSeller: (seconds) => `现在没有卖家在线。请把问题对准摄像头，并告诉我发生了什么。我会为卖家录制 ${seconds} 秒的视频。`,
  clipDone: '谢谢。卖家会看到您的视频，并在一天内通过邮件联系您。',
  goodbye: '再见。',
  category: {
    damaged_in_transit: '运输中损坏', defective: '有缺陷', wrong_item_or_size: '发错货或尺码', how_to_use: '需要使用帮助', changed_mind: '改变主意',
  },
};

const BOOK: Record<string, Phrases> = { en, es, zh };

/** The languages the assistant speaks from its own phrases. */
export const PHRASE_LANGUAGES = Object.keys(BOOK);

/** The phrases for `language` (its primary subtag), or English. */
export function phrasesFor(language: string): { phrases: Phrases; language: string } {
  const p = primary(language);
  return BOOK[p] ? { phrases: BOOK[p], language: p } : { phrases: en, language: 'en' };
}
